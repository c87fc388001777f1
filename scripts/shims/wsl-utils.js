// wsl-utils for @oclif/core (scripts/build.js): oclif imports it at every start, for `isWsl` (config.platform), and for
// `powerShellPath` on Windows only. wsl-utils starts by loading node:child_process and powershell-utils; isWsl is
// is-wsl's, which wsl-utils re-exports. The rest of wsl-utils is imported when powerShellPath is called.
// eslint-disable-next-line n/no-extraneous-import -- bundled: @oclif/core's dependency, through wsl-utils
export {default as isWsl} from 'is-wsl'

export async function powerShellPath(...args) {
  // eslint-disable-next-line n/no-extraneous-import -- bundled: @oclif/core's dependency
  const wslUtils = await import('wsl-utils')
  return wslUtils.powerShellPath(...args)
}
