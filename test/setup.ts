// Mocha setup: tests run the bundle the user runs (built first when stale), never reach the network (loopback only),
// and never read the developer's real config.
import nock from 'nock'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

// @ts-expect-error plain JS helper
import {buildIfStale} from '../scripts/manifest-guard.js'

buildIfStale(join(fileURLToPath(import.meta.url), '..', '..'))
// in-process command tests load dist/index.js (the bundle), not src/ through a transpiler
const holder = globalThis as {oclif?: Record<string, unknown>}
holder.oclif = {...holder.oclif, enableAutoTranspile: false}
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
