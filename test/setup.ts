// Mocha setup: tests never reach the network (loopback only), and never read the developer's real config.
import nock from 'nock'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

// @ts-expect-error plain JS helper
import {dropStaleManifest} from '../scripts/manifest-guard.js'

dropStaleManifest(join(fileURLToPath(import.meta.url), '..', '..'))
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
