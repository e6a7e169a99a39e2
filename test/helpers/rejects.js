// `await rejects(promiseOrFn, ErrorClass, /message/, label)`: asserts that the promise (or the
// function's result, or its synchronous throw) fails with that class and message; returns the error.
'use strict';
const assert = require('uvu/assert');

async function rejects(promiseOrFn, ctor, re, label) {
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (err) {
    assert.instance(err, ctor, `${label}: ${err && err.name}: ${err && err.message}`);
    assert.match(err.message, re, label);
    return err;
  }
  assert.unreachable(`${label}: did not throw`);
  return undefined;
}

module.exports = { rejects };
