// Intl.ListFormat for the bundled packages (scripts/build.js: define and inject), made when it is first used. The first
// Intl.ListFormat of a process loads ICU's list patterns (10 to 30 ms); @sindresorhus/is (got's) creates two at its
// start, for its error messages only, so every run that made a request paid for them. Same methods, same results.
// (globalThis.Intl: the build's define replaces Intl.ListFormat, this file's too.)
export class LazyListFormat {
  #args
  #real

  constructor(...args) {
    this.#args = args
  }

  static supportedLocalesOf(...args) {
    return globalThis.Intl.ListFormat.supportedLocalesOf(...args)
  }

  format(list) {
    return this.#get().format(list)
  }

  formatToParts(list) {
    return this.#get().formatToParts(list)
  }

  resolvedOptions() {
    return this.#get().resolvedOptions()
  }

  #get() {
    this.#real ??= new globalThis.Intl.ListFormat(...this.#args)
    return this.#real
  }
}
