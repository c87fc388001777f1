// npm run demo: a short tour of pdhooks that needs no account and no network.
import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {dropStaleManifest} from './manifest-guard.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (dropStaleManifest(root) || !existsSync(join(root, 'oclif.manifest.json'))) {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.js')], {stdio: 'inherit'})
}

const pdhooks = (...args) => {
  console.log(`\n$ pdhooks ${args.join(' ')}`)
  execFileSync(process.execPath, [join(root, 'bin', 'run.js'), ...args], {stdio: 'inherit'})
}

pdhooks('--version')
pdhooks('instance', 'callback-url', '20931')
pdhooks('instance', 'callback-url', '20931', '--elements-url', 'sap-us2', '--json')
pdhooks('webhook', 'add', '--help')
