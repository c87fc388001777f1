// Mocha setup: command and lib tests run the TypeScript sources (through tsx, like bin/dev.js), never the bundle; they
// never reach the network (loopback only) and never read the developer's real config. The e2e suite builds and runs
// the bundle itself (test/e2e/helpers.ts).
import nock from 'nock'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

// @ts-expect-error plain JS helper
import {dropStaleManifest} from '../scripts/manifest-guard.js'
import {killStrays} from './support/children.js'

// oclif reads oclif.manifest.json for the command list and flags: one older than src/ would hide new commands and flags
dropStaleManifest(join(fileURLToPath(import.meta.url), '..', '..'))
// NODE_ENV=test: oclif maps the bundle (package.json oclif.commands.target ./dist/index.js) to src/index.ts (tsconfig
// outDir/rootDir), so runCommand loads the same modules the tests import
process.env.NODE_ENV = 'test'
process.env.PDHOOKS_CONFIG_DIR = mkdtempSync(join(tmpdir(), 'pdhooks-test-'))
for (const k of Object.keys(process.env)) {
  if (k.startsWith('PDHOOKS_') && k !== 'PDHOOKS_CONFIG_DIR') delete process.env[k]
}

process.env.PDHOOKS_RETRY_BASE_MS = '5'
delete process.env.DEBUG
delete process.env.NO_COLOR
process.env.CI = 'true'
nock.disableNetConnect()
nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/)

/** Root hooks: a child a failed test left running is killed, so the run never hangs waiting for it. */
export const mochaHooks = {
  afterEach(this: {currentTest?: {state?: string}}) {
    const n = killStrays()
    if (n > 0 && this.currentTest?.state === 'passed') throw new Error(`the test left ${n} child process(es) running`)
  },
}
