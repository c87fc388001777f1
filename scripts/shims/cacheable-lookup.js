// cacheable-lookup for got (scripts/build.js): got imports it at its start, for its `dnsCache` option only (which
// pdhooks never sets), and cacheable-lookup's start loads node:dns, which creates c-ares' default resolver (5 to 10 ms).
// The class is loaded when one is constructed; `new` gives a real CacheableLookup.
export default class LazyCacheableLookup {
  constructor(...args) {
    // esbuild bundles this require() (the package's code is in got's chunk and runs on the first call)
    // eslint-disable-next-line no-constructor-return, @typescript-eslint/no-require-imports, no-undef, new-cap
    return new (require('cacheable-lookup').default)(...args)
  }
}
