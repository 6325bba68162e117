// Smoke test of extension.js outside VS Code: a stand-in `vscode` module records what the
// extension does. Checks that `res` is looked up on PATH, and that a missing `res` is reported
// in the output channel instead of failing activation.
//
//   node editors/vscode/tests/check-extension.js

'use strict';

const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const Module = require('module');

const logged = [];
const fakeVscode = {
  window: {
    createOutputChannel: () => ({ appendLine: (l) => logged.push(l), dispose() {} }),
  },
  workspace: {
    getConfiguration: () => ({ get: (_key, dflt) => dflt }),
    onDidChangeConfiguration: () => ({ dispose() {} }),
    createFileSystemWatcher: () => ({ dispose() {} }),
  },
};
const originalLoad = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'vscode') return fakeVscode;
  return originalLoad.call(this, request, ...rest);
};

const ext = require('../extension.js');

(async () => {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'res-ext-'));
  try {
    // findExecutable: found on PATH when executable, not when it is a plain file
    const res = path.join(bin, 'res');
    fs.writeFileSync(res, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    process.env.PATH = bin;
    assert.strictEqual(ext.findExecutable('res'), undefined, 'a non-executable res was taken');
    fs.chmodSync(res, 0o755);
    assert.strictEqual(ext.findExecutable('res'), res);
    assert.strictEqual(ext.findExecutable(res), res, 'an absolute path is taken as is');
    assert.strictEqual(ext.findExecutable('no-such-res'), undefined);

    // activation without res on PATH: highlighting-only mode, reason logged
    process.env.PATH = path.join(bin, 'empty');
    const context = { subscriptions: [] };
    await ext.activate(context);
    assert.ok(logged.some((l) => l.includes('not found on PATH')), `logged: ${JSON.stringify(logged)}`);
    assert.ok(context.subscriptions.length >= 2, 'output channel and config listener are disposed with the extension');
    await ext.deactivate();
    console.log('check-extension: res lookup and activation without res behave');
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(`check-extension: ${err.message}`);
  process.exit(1);
});
