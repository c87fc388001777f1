import {expect} from 'chai'
import {
  mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, relative} from 'node:path'

import {root} from './support/run.js'

function files(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap(e => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
}

/** Every module specifier of a source: static imports, re-exports, dynamic import() and import types. */
function specifiers(source: string): string[] {
  const re = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(["'])([^"']+)\1/g
  return [...source.matchAll(re)].map(m => m[2])
}

/** The layer rule: only src/lib/cli/, src/commands/ and the command table (src/index.ts) know oclif and cli/. */
function layerViolations(srcRoot: string): string[] {
  const cli = join(srcRoot, 'lib', 'cli')
  const allowed = (f: string) => f.startsWith(cli + '/') || f.startsWith(join(srcRoot, 'commands') + '/') || f === join(srcRoot, 'index.ts')
  const found: string[] = []
  for (const file of files(srcRoot).filter(f => f.endsWith('.ts') && !allowed(f))) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const intoCli = spec.startsWith('.') && (join(dirname(file), spec) + '/').startsWith(cli + '/')
      if (spec.startsWith('@oclif/') || intoCli) found.push(`${relative(srcRoot, file)} imports ${spec}`)
    }
  }

  return found
}

describe('architecture', () => {
  it('nothing outside src/lib/cli and src/commands imports oclif or src/lib/cli', () => {
    expect(layerViolations(join(root, 'src'))).to.deep.equal([])
  })

  it('the check sees every form of import (a check that cannot fail is no check)', () => {
    const src = 'import * as Flags from \'@oclif/core/flags\'\nimport {x} from \'../cli/flags.js\'\nexport {y} from "../cli/output.js"\nconst m = await import(\'@oclif/core\')\ntype T = import(\'../cli/prompts.js\').P\n'
    expect(specifiers(src)).to.deep.equal(['@oclif/core/flags', '../cli/flags.js', '../cli/output.js', '@oclif/core', '../cli/prompts.js'])
  })

  it('reports a service that imports oclif or cli/, and lets cli/ and the commands do so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdhooks-arch-'))
    try {
      for (const d of ['lib/cli', 'lib/pipedrive', 'commands']) mkdirSync(join(dir, d), {recursive: true})
      writeFileSync(join(dir, 'lib/cli/flags.ts'), "import * as Flags from '@oclif/core/flags'\n")
      writeFileSync(join(dir, 'commands/add.ts'), "import {x} from '../lib/cli/flags.js'\n")
      writeFileSync(join(dir, 'lib/pipedrive/webhooks.ts'), "import {x} from '../cli/flags.js'\nimport {Args} from '@oclif/core'\nimport {y} from '../core/errors.js'\n")
      expect(layerViolations(dir)).to.deep.equal(['lib/pipedrive/webhooks.ts imports ../cli/flags.js', 'lib/pipedrive/webhooks.ts imports @oclif/core'])
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })
})
