// Sanity checks of the extension manifest and its declarative files (no VS Code needed):
// every JSON file parses, package.json points at files that exist, the grammar's scopeName
// matches, and there is a snippet for each top-level block of the language.
//
//   node editors/vscode/tests/check-manifest.js

'use strict';

const fs = require('fs');
const path = require('path');

const dir = path.resolve(__dirname, '..');
const problems = [];
const fail = (msg) => problems.push(msg);

function readJson(rel) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, rel), 'utf8'));
  } catch (err) {
    fail(`${rel}: ${err.message}`);
    return undefined;
  }
}

const pkg = readJson('package.json') || {};
for (const field of ['name', 'displayName', 'version', 'publisher', 'license', 'repository', 'engines', 'main']) {
  if (!pkg[field]) fail(`package.json: missing "${field}"`);
}
if (!pkg.engines || !pkg.engines.vscode) fail('package.json: missing engines.vscode');
if (pkg.main && !fs.existsSync(path.join(dir, pkg.main))) fail(`package.json: main ${pkg.main} does not exist`);
if (!fs.existsSync(path.join(dir, 'README.md'))) fail('README.md is missing (vsce needs it)');
if (!fs.existsSync(path.join(dir, 'LICENSE'))) fail('LICENSE is missing (vsce asks for it)');

const contributes = pkg.contributes || {};
const language = (contributes.languages || []).find((l) => l.id === 'res');
if (!language) {
  fail('package.json: no language with id "res"');
} else {
  if (!(language.extensions || []).includes('.res')) fail('language res: extension .res missing');
  if (!(language.aliases || []).includes('res — resilience scenarios')) fail('language res: name "res — resilience scenarios" missing');
  const config = language.configuration && readJson(language.configuration);
  if (config) {
    if (!config.comments || config.comments.lineComment !== '//') fail('language-configuration: line comment is not //');
    const block = config.comments && config.comments.blockComment;
    if (!block || block[0] !== '/*' || block[1] !== '*/') fail('language-configuration: block comment is not /* */');
    for (const key of ['brackets', 'autoClosingPairs', 'surroundingPairs', 'folding', 'indentationRules']) {
      if (!config[key]) fail(`language-configuration: missing ${key}`);
    }
    for (const key of ['increaseIndentPattern', 'decreaseIndentPattern']) {
      try {
        new RegExp(config.indentationRules[key]);
      } catch (err) {
        fail(`language-configuration: ${key}: ${err.message}`);
      }
    }
    const inc = new RegExp(config.indentationRules.increaseIndentPattern);
    const dec = new RegExp(config.indentationRules.decreaseIndentPattern);
    if (!inc.test('system shop {')) fail('increaseIndentPattern does not match "system shop {"');
    if (inc.test('window w { every day 02:00..04:00 }')) fail('increaseIndentPattern matches a closed block');
    if (!dec.test('  }')) fail('decreaseIndentPattern does not match "  }"');
  }
}

const grammar = (contributes.grammars || []).find((g) => g.language === 'res');
if (!grammar) {
  fail('package.json: no grammar for res');
} else {
  if (grammar.scopeName !== 'source.res') fail('package.json: grammar scopeName is not source.res');
  const tm = readJson(grammar.path);
  if (tm && tm.scopeName !== 'source.res') fail(`${grammar.path}: scopeName is not source.res`);
}

const snippetsEntry = (contributes.snippets || []).find((s) => s.language === 'res');
if (!snippetsEntry) {
  fail('package.json: no snippets for res');
} else {
  const snippets = readJson(snippetsEntry.path) || {};
  const prefixes = new Set(Object.values(snippets).map((s) => s.prefix));
  const blocks = ['import', 'param', 'data', 'system', 'service', 'traffic', 'fault', 'window',
    'event', 'slo', 'abort', 'remedy', 'scenario', 'template'];
  for (const block of blocks) {
    if (!prefixes.has(block)) fail(`snippets: no snippet with prefix "${block}"`);
  }
  for (const [name, s] of Object.entries(snippets)) {
    if (!Array.isArray(s.body) || !s.body.length) fail(`snippets: "${name}" has no body`);
    if (!s.description) fail(`snippets: "${name}" has no description`);
  }
}

for (const p of problems) console.log(`check-manifest: ${p}`);
if (problems.length) process.exit(1);
console.log('check-manifest: package.json, grammar, language configuration and snippets are consistent');
