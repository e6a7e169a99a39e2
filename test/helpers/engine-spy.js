// Counts what reaches the native engine: while installed, every engine the addon creates is
// wrapped so that each native encode call adds its sequences and tokens to the counts. Used to
// show that dropped work (an aborted call, a client that left) never reaches the engine.
'use strict';
const { native } = require('../../dist/native');

/** Installs the spy for engines created from now on; `restore()` uninstalls it. */
function spyOnEngines() {
  const addon = native();
  const original = addon.createEngine;
  const spy = {
    calls: 0,
    sequences: 0,
    tokens: 0,
    restore: () => {
      addon.createEngine = original;
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
            return target.encode(a);
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
