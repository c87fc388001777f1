// oclif sorts every plugin's commands with String.prototype.localeCompare as it loads the plugins, at every start. The
// first localeCompare of a process builds ICU's collator: about 13 ms of CPU on this machine (hyperfine, user time of
// `node -e "'a'.localeCompare('b')"` against `node -e 0`, Node 20 and 24). The strings compared there are command ids
// (lowercase letters, ':' and '-'). For such strings the collator's order is the order of their UTF-16 code units in
// every locale that does not tailor the Latin letters: the root locale ("und") and English (ICU takes the C and POSIX
// locales as English). So while oclif loads its plugins, localeCompare answers those comparisons itself when the
// process' locale is one of these, and hands every other comparison to ICU unchanged. It is put back before any command
// runs. test/lib/cli/startup-collation.test.ts compares the two orders on generated ids and on every command id.

/** The strings whose collation order is their code unit order (in the locales below). */
const ID = /^[a-z:-]*$/

/**
 * The locale ICU takes as the default on POSIX systems: the first of LC_ALL, LC_MESSAGES and LANG that is set (an empty
 * value is the root locale). Other systems ask the operating system: no fast path there.
 */
export function defaultLocaleIsPlain(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'win32') return false
  const locale = env.LC_ALL ?? env.LC_MESSAGES ?? env.LANG ?? ''
  return locale === '' || /^(?:C|POSIX|en)(?:[_.@-]|$)/.test(locale)
}

/** localeCompare for two command ids, as ICU's root and English collators order them. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : (a > b ? 1 : 0)
}

let original: typeof String.prototype.localeCompare | undefined

/** From now until restoreCollation(): command ids compare without ICU (when the locale allows it). */
export function deferCollation(env: NodeJS.ProcessEnv = process.env): void {
  if (original || !defaultLocaleIsPlain(env)) return
  const icu = String.prototype.localeCompare
  original = icu
  // eslint-disable-next-line no-extend-native -- scoped to oclif's plugin loading, exact (see above), then restored
  String.prototype.localeCompare = function (this: string, that: string, ...rest: unknown[]): number {
    const self = String(this)
    if (rest.length === 0 && typeof that === 'string' && ID.test(self) && ID.test(that)) return compareIds(self, that)
    return (icu as (this: string, ...args: unknown[]) => number).call(self, that, ...rest)
  } as typeof String.prototype.localeCompare
}

/** localeCompare is String.prototype's own again. */
export function restoreCollation(): void {
  if (!original) return
  // eslint-disable-next-line no-extend-native -- putting back the original
  String.prototype.localeCompare = original
  original = undefined
}
