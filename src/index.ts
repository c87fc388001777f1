// The bundle's entry (dist/index.js) and oclif's target for explicit command discovery (package.json oclif.commands):
// COMMANDS is the table oclif reads a command class from. In the bundle each command is a chunk of its own, imported
// only when oclif looks its class up (to run it): the init hook (LOAD_COMMAND) makes every such lookup import the
// command's module first. Everything else oclif needs (the list of commands, their flags for --help, autocomplete and
// the did-you-mean of an unknown command) comes from oclif.manifest.json, which the build generates. Without a usable
// manifest (`oclif manifest` in the build) oclif reads every class from the table itself, so then the table is filled
// before oclif sees it; so it is when this file runs as source (tests and bin/dev.js, through tsx), where the manifest
// may or may not be read. test/index.test.ts checks that every file under src/commands is listed here, and
// test/e2e/lazy-loading.test.ts that the bundle loads each of them, and only what a command needs.
import type {Command, Hook, Interfaces} from '@oclif/core'

import {run as oclifRun} from '@oclif/core/run'
import {
  closeSync, fstatSync, openSync, readFileSync, readSync,
} from 'node:fs'

import {deferCollation, restoreCollation} from './lib/cli/startup-collation.js'

type Plugin = Interfaces.Plugin
type Loader = () => Promise<{default: Command.Class}>

/**
 * The commands of @oclif/plugin-help and @oclif/plugin-autocomplete, by id: their modules. plugin-autocomplete's
 * package exports no command (its `exports` names only an empty entry), so its command files are reached by their
 * path; the build bundles them (nothing of either package is loaded from node_modules when pdhooks runs).
 */
export const PLUGIN_LOADERS: Record<string, Loader> = {
  autocomplete: () => import('../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/index.js'),
  'autocomplete:create': () => import('../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/create.js'),
  'autocomplete:script': () => import('../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/script.js'),
  help: async () => ({default: (await import('@oclif/plugin-help')).commands.help}),
}

/** Every command, by id: its module. A new command is its file under src/commands plus its line here. */
const LOADERS: Record<string, Loader> = {
  apply: () => import('./commands/apply.js'),
  'auth:login': () => import('./commands/auth/login.js'),
  'auth:logout': () => import('./commands/auth/logout.js'),
  'auth:status': () => import('./commands/auth/status.js'),
  backfill: () => import('./commands/backfill.js'),
  doctor: () => import('./commands/doctor.js'),
  'instance:callback-url': () => import('./commands/instance/callback-url.js'),
  'instance:create': () => import('./commands/instance/create.js'),
  'instance:delete': () => import('./commands/instance/delete.js'),
  'instance:get': () => import('./commands/instance/get.js'),
  'instance:list': () => import('./commands/instance/list.js'),
  listen: () => import('./commands/listen.js'),
  'pipeliner:webhook:add': () => import('./commands/pipeliner/webhook/add.js'),
  'pipeliner:webhook:delete': () => import('./commands/pipeliner/webhook/delete.js'),
  'pipeliner:webhook:list': () => import('./commands/pipeliner/webhook/list.js'),
  replay: () => import('./commands/replay.js'),
  sandbox: () => import('./commands/sandbox.js'),
  setup: () => import('./commands/setup.js'),
  trigger: () => import('./commands/trigger.js'),
  'webhook:add': () => import('./commands/webhook/add.js'),
  'webhook:delete': () => import('./commands/webhook/delete.js'),
  'webhook:list': () => import('./commands/webhook/list.js'),
  'webhook:migrate': () => import('./commands/webhook/migrate.js'),
  // oclif's help and autocomplete commands, bundled as commands of pdhooks: as oclif plugins (package.json
  // oclif.plugins) they were found, read and sorted at every start, and installed with a second copy of @oclif/core
  ...PLUGIN_LOADERS,
}

/** The ids of every command. */
export const COMMAND_IDS: readonly string[] = Object.keys(LOADERS)

/** The command classes loaded so far, by id (oclif's explicit discovery reads this object). */
export const COMMANDS: Record<string, Command.Class> = {}

/** Imports one command's module (once) and puts its class into COMMANDS. */
export async function loadCommand(id: string): Promise<Command.Class | undefined> {
  if (!Object.hasOwn(LOADERS, id)) return undefined
  COMMANDS[id] ??= (await LOADERS[id]()).default
  return COMMANDS[id]
}

/** Every command class, by id (in the order of LOADERS, whatever order the modules arrive in). */
export async function loadCommands(): Promise<Record<string, Command.Class>> {
  const modules = await Promise.all(COMMAND_IDS.map(id => LOADERS[id]()))
  for (const [i, id] of COMMAND_IDS.entries()) COMMANDS[id] ??= modules[i].default
  return COMMANDS
}

/** A version without its prerelease part (oclif compares manifest and package versions so). */
const release = (v: unknown) => String(v).split('-')[0]

/**
 * Will oclif read this package's commands from oclif.manifest.json? Only when it is there with this package's version
 * (oclif's own rule); otherwise it reads every class from COMMANDS. The manifest's version is its last key (oclif
 * writes it so): only the file's end is read, not its ~100 kB.
 */
function manifestUsable(): boolean {
  try {
    const manifest = new URL('../oclif.manifest.json', import.meta.url)
    const fd = openSync(manifest, 'r')
    let tail: string
    try {
      const {size} = fstatSync(fd)
      const buffer = Buffer.alloc(Math.min(size, 256))
      readSync(fd, buffer, 0, buffer.length, size - buffer.length)
      tail = buffer.toString('utf8')
    } finally {
      closeSync(fd)
    }

    const version = /"version":\s*"([^"]*)"\s*}\s*$/.exec(tail)?.[1] ?? JSON.parse(readFileSync(manifest, 'utf8')).version
    return release(version) === release(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version)
  } catch {
    return false
  }
}

/**
 * oclif's init hook: from here on, every time oclif looks up one of pdhooks' command classes (to run it, or for the
 * help of a command whose help is dynamic), that command's module is imported first. All of oclif's ways to a class go
 * through the plugin's findCommand (its command list, from the manifest, loads each class with it), so it is wrapped.
 */
export const LOAD_COMMAND: Hook<'init'> = async function ({config}) {
  restoreCollation() // oclif has loaded its plugins: localeCompare is ICU's again before any command runs
  const plugin = config.plugins.get(config.pjson.name) as (Plugin & {pdhooksLazy?: boolean}) | undefined
  if (!plugin || plugin.pdhooksLazy) return
  plugin.pdhooksLazy = true
  const findCommand = plugin.findCommand.bind(plugin) as (id: string, opts?: {must?: boolean}) => Promise<Command.Class | undefined>
  plugin.findCommand = (async (id: string, opts?: {must?: boolean}) => {
    await loadCommand(id)
    return findCommand(id, opts)
  }) as Plugin['findCommand']
}

/** oclif's `command_not_found` hook (src/lib/cli/not-found.ts), imported only when a command is not found. */
export const COMMAND_NOT_FOUND: Hook<'command_not_found'> = async function (opts) {
  const {commandNotFound} = await import('./lib/cli/not-found.js')
  return commandNotFound.call(this, opts)
}

const fromSource = import.meta.url.endsWith('.ts')
if (fromSource || !manifestUsable() || process.env.DEBUG) await loadCommands()
// with DEBUG set, oclif prints the command line before any command runs: the values of every command's secret flags
// are masked from here on
if (process.env.DEBUG) (await import('./lib/cli/flags.js')).guardDebugOutput()

export {execute} from '@oclif/core/execute'
export {flush} from '@oclif/core/flush'
export {handle} from '@oclif/core/handle'

/** oclif's run, with its plugins' command lists sorted without building ICU's collator (lib/cli/startup-collation.ts). */
export async function run(...args: Parameters<typeof oclifRun>): ReturnType<typeof oclifRun> {
  deferCollation()
  try {
    return await oclifRun(...args)
  } finally {
    restoreCollation()
  }
}
