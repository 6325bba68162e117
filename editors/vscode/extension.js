// VS Code entry point of the res extension.
//
// Highlighting, snippets and editing rules are declarative (package.json). This file only starts
// the res language server, `res lsp`, over stdio when the `res` executable can be found. Without
// it (or with an older res that has no `lsp` command) the extension still highlights; the failure
// is written to the "res" output channel instead of interrupting the user.

'use strict';

const fs = require('fs');
const path = require('path');
const vscode = require('vscode');

let client; // the running LanguageClient, if any
let output; // the "res" output channel

// Resolve `command` the way a shell would: an absolute or relative path is taken as is, a bare
// name is looked up in PATH (with PATHEXT on Windows). Returns undefined when nothing runnable
// is found.
function findExecutable(command) {
  if (!command) {
    return undefined;
  }
  const isRunnable = (file) => {
    try {
      fs.accessSync(file, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch (_) {
      return false;
    }
  };
  const exts = process.platform === 'win32'
    ? ['', ...(process.env.PATHEXT || '.EXE;.CMD;.BAT').split(';')]
    : [''];
  if (command.includes('/') || command.includes(path.sep)) {
    const full = path.resolve(command);
    return exts.map((e) => full + e).find(isRunnable);
  }
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    for (const ext of exts) {
      const candidate = path.join(dir, command + ext);
      if (isRunnable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

async function startServer(context) {
  const config = vscode.workspace.getConfiguration('res.server');
  if (!config.get('enabled', true)) {
    output.appendLine('res language server disabled (res.server.enabled is false)');
    return;
  }
  const configured = config.get('path', 'res') || 'res';
  const executable = findExecutable(configured);
  if (!executable) {
    output.appendLine(
      `res language server not started: "${configured}" was not found on PATH. ` +
        'Install res or set res.server.path; highlighting and snippets work without it.'
    );
    return;
  }

  // Loaded lazily, so that highlighting never depends on the client library.
  const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

  const serverOptions = {
    command: executable,
    args: ['lsp'],
    transport: TransportKind.stdio,
  };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'res' },
      { scheme: 'untitled', language: 'res' },
    ],
    outputChannel: output,
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.res'),
    },
  };

  client = new LanguageClient('res', 'res language server', serverOptions, clientOptions);
  try {
    output.appendLine(`starting ${executable} lsp`);
    await client.start();
  } catch (err) {
    output.appendLine(`res language server failed to start: ${err && err.message ? err.message : err}`);
    const failed = client;
    client = undefined;
    try {
      await failed.dispose();
    } catch (_) {
      // already stopped
    }
  }
}

async function restartServer(context) {
  await stopServer();
  await startServer(context);
}

async function stopServer() {
  if (client) {
    const running = client;
    client = undefined;
    try {
      await running.stop();
    } catch (_) {
      // it never started or already exited
    }
  }
}

function activate(context) {
  output = vscode.window.createOutputChannel('res');
  context.subscriptions.push(output);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('res.server')) {
        restartServer(context);
      }
    })
  );
  return startServer(context);
}

function deactivate() {
  return stopServer();
}

module.exports = { activate, deactivate, findExecutable };
