// The command table for oclif's explicit command discovery (package.json oclif.commands): the bundle (dist/index.js)
// holds every command, so one file loads. test/index.test.ts checks that every file under src/commands is listed.

import Apply from './commands/apply.js'
import AuthLogin from './commands/auth/login.js'
import AuthLogout from './commands/auth/logout.js'
import AuthStatus from './commands/auth/status.js'
import Backfill from './commands/backfill.js'
import InstanceCallbackUrl from './commands/instance/callback-url.js'
import InstanceCreate from './commands/instance/create.js'
import InstanceDelete from './commands/instance/delete.js'
import InstanceGet from './commands/instance/get.js'
import InstanceList from './commands/instance/list.js'
import Listen from './commands/listen.js'
import PipelinerWebhookAdd from './commands/pipeliner/webhook/add.js'
import PipelinerWebhookDelete from './commands/pipeliner/webhook/delete.js'
import PipelinerWebhookList from './commands/pipeliner/webhook/list.js'
import Replay from './commands/replay.js'
import Sandbox from './commands/sandbox.js'
import Setup from './commands/setup.js'
import Trigger from './commands/trigger.js'
import WebhookAdd from './commands/webhook/add.js'
import WebhookDelete from './commands/webhook/delete.js'
import WebhookList from './commands/webhook/list.js'
import {guardDebugOutput} from './lib/cli/flags.js'

export const COMMANDS = {
  apply: Apply,
  'auth:login': AuthLogin,
  'auth:logout': AuthLogout,
  'auth:status': AuthStatus,
  backfill: Backfill,
  'instance:callback-url': InstanceCallbackUrl,
  'instance:create': InstanceCreate,
  'instance:delete': InstanceDelete,
  'instance:get': InstanceGet,
  'instance:list': InstanceList,
  listen: Listen,
  'pipeliner:webhook:add': PipelinerWebhookAdd,
  'pipeliner:webhook:delete': PipelinerWebhookDelete,
  'pipeliner:webhook:list': PipelinerWebhookList,
  replay: Replay,
  sandbox: Sandbox,
  setup: Setup,
  trigger: Trigger,
  'webhook:add': WebhookAdd,
  'webhook:delete': WebhookDelete,
  'webhook:list': WebhookList,
}

// with DEBUG set, oclif prints the command line before any command runs: secret flag values are masked from here on
guardDebugOutput()

export {commandNotFound as COMMAND_NOT_FOUND} from './lib/cli/not-found.js'
export {execute} from '@oclif/core/execute'
export {flush} from '@oclif/core/flush'
export {handle} from '@oclif/core/handle'
export {run} from '@oclif/core/run'
