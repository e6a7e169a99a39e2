// Counts what reaches the native engine: while installed, every engine the addon creates is
// wrapped so that each native encode call adds its sequences and tokens to the counts. Used to
// show that dropped work (an aborted call, a client that left) never reaches the engine.
// `hold()` makes the next native calls wait (counted, not yet run) until `release()`, so a test
// can keep the engine busy deterministically while it queues work behind it.
'use strict';
const { native } = require('../../dist/native');

/** Installs the spy for engines created from now on; `restore()` uninstalls it. */
function spyOnEngines() {
  const addon = native();
  const original = addon.createEngine;
  let gate;
  let open = () => undefined;
  const spy = {
    calls: 0,
    sequences: 0,
    tokens: 0,
    restore: () => {
      addon.createEngine = original;
    },
    hold: () => {
      gate = new Promise((r) => (open = r));
    },
    release: () => {
      gate = undefined;
      open();
    },
  };
  addon.createEngine = async function (...args) {
    const engine = await original.apply(this, args);
    return new Proxy(engine, {
      get(target, key) {
        if (key === 'encode') {
          return (a) => {
            spy.calls++;
            spy.sequences += a.cuSeqlens.length - 1;
            spy.tokens += a.ids.length;
            if (!gate) return target.encode(a);
            const copy = { ...a, ids: a.ids.slice(), cuSeqlens: a.cuSeqlens.slice() };
            return gate.then(() => target.encode(copy));
          };
        }
        const v = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  };
  return spy;
}

module.exports = { spyOnEngines };
