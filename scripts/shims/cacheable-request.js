// cacheable-request for got (scripts/build.js): got imports it at its start, for its `cache` option only (which pdhooks
// never sets); cacheable-request brings keyv, http-cache-semantics, normalize-url, responselike and get-stream, all run
// at start-up. The package is loaded when a CacheableRequest is constructed; `new` gives a real one, and
// `instanceof CacheError` is true exactly for the package's own CacheError (none can exist before it is loaded).
let real

function load() {
  // esbuild bundles this require() (the package's code is in got's chunk and runs on the first call)
  // eslint-disable-next-line @typescript-eslint/no-require-imports, no-undef
  real ??= require('cacheable-request')
  return real
}

export default class LazyCacheableRequest {
  constructor(...args) {
    // eslint-disable-next-line no-constructor-return, new-cap
    return new (load().default)(...args)
  }
}

export const CacheError = {
  [Symbol.hasInstance](value) {
    return real !== undefined && value instanceof real.CacheError
  },
}
