// extensionTestsPath for the installed-.vsix run (test/vscode/vscode.test.ts): the smoke suite, then
// installed.suite.js. Kept out of ../index.js's default set, which tests the development folder.
const path = require('node:path');
const { runFiles } = require('../index.js');

exports.run = () => runFiles([path.join(__dirname, '..', 'smoke.suite.js'), path.join(__dirname, 'installed.suite.js')]);
