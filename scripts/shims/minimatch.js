// minimatch for @oclif/core's plugin loader (scripts/build.js): oclif's plugin loader imports minimatch at every start
// (loading it compiles a glob parser: 5 to 10 ms), to match the names of the dependencies against the names in
// package.json oclif.plugins (pdhooks has none today: help and autocomplete are bundled commands, src/index.ts). A
// pattern with no glob syntax (only letters, digits, _, -, ., @ and / between such names) matches exactly the same
// string, so it is compared as a string; any other pattern goes to minimatch itself, loaded then.
const PLAIN = /^[\w@-][\w@.-]*(?:\/[\w@-][\w@.-]*)*$/

let real

function minimatch(path, pattern, options = {}) {
  if (PLAIN.test(pattern) && Object.keys(options).length === 0) return path === pattern
  // esbuild bundles this require() (minimatch's code is in the bundle and runs on the first call)
  // eslint-disable-next-line @typescript-eslint/no-require-imports, no-undef
  real ??= require('minimatch')
  return real.minimatch(path, pattern, options)
}

// the CommonJS shape of minimatch's exports that oclif reads (`require("minimatch").minimatch`)
// eslint-disable-next-line no-undef
module.exports = {minimatch}
