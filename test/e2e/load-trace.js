// Preloaded (--import) into a CLI run by test/e2e/lazy-loading.test.ts: appends to the file $PDHOOKS_TEST_LOADS the
// URL of every ES module file the run loads (a module customization hook: it sees import() as well as import) and, at
// exit, Node's built-in modules loaded (process.moduleLoadList).
import {appendFileSync} from 'node:fs'
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- in Node 20.6+ and 22+, stable in 24; a test tool only
import {register} from 'node:module'

const out = process.env.PDHOOKS_TEST_LOADS
if (out) {
  const hook = [
    "import {appendFileSync} from 'node:fs'",
    'export async function load(url, context, next) {',
    `  if (url.startsWith('file:')) appendFileSync(${JSON.stringify(out)}, 'file ' + url + '\\n')`,
    '  return next(url, context)',
    '}',
  ].join('\n')
  register(`data:text/javascript,${encodeURIComponent(hook)}`)
  process.on('exit', () => {
    const builtins = process.moduleLoadList.filter(m => m.startsWith('NativeModule ')).map(m => `builtin ${m.slice('NativeModule '.length)}`)
    appendFileSync(out, builtins.join('\n') + '\n')
  })
}
