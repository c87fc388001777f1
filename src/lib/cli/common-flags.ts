import * as Flags from '@oclif/core/flags'

import {secret} from './flags.js'
/** Credentials flags shared by every Pipedrive command (each also has its PDHOOKS_* variable). */
export const pipedriveFlags = {
  'pipedrive-access-token': secret('pipedrive-access-token', {description: 'Pipedrive OAuth access token.', header: true, helpGroup: 'CREDENTIALS'}),
  'pipedrive-token': secret('pipedrive-token', {description: 'Pipedrive API token.', header: true, helpGroup: 'CREDENTIALS'}),
  'pipedrive-url': Flags.string({description: 'Pipedrive API base or company domain (PDHOOKS_PIPEDRIVE_URL).', helpGroup: 'CREDENTIALS'}),
}

/** Credentials flags shared by every Cloud Elements / Open Connectors command. */
export const elementsFlags = {
  'elements-url': Flags.string({description: 'Platform base: URL, host, or us, eu, staging, sap-us2, sap-eu10, sap-us10 (PDHOOKS_ELEMENTS_URL).', helpGroup: 'CREDENTIALS'}),
  'org-secret': secret('org-secret', {description: 'Platform organization secret.', header: true, helpGroup: 'CREDENTIALS'}),
  'user-secret': secret('user-secret', {description: 'Platform user secret.', header: true, helpGroup: 'CREDENTIALS'}),
}

/** The flags of `instance create`, shared with `setup`. */
export const instanceCreateFlags = {
  'callback-url': Flags.string({description: "Your app's endpoint that receives the platform's normalized events (required when events are on)."}),
  config: Flags.string({description: 'Extra configuration entry key=value (JSON objects parsed); overrides anything.', multiple: true}),
  events: Flags.string({default: 'webhook', description: 'Events mode.', options: ['webhook', 'polling', 'none']}),
  name: Flags.string({description: 'Instance name.'}),
  poll: Flags.string({description: 'Polling: resources to poll (comma-separated; default accounts,contacts,opportunities).'}),
  'poll-interval': Flags.integer({description: 'Polling: refresh interval in minutes (default 15).', min: 1}),
  'pipedrive-email': Flags.string({description: 'Pipedrive login email for the connector (PDHOOKS_PIPEDRIVE_EMAIL).'}),
  'pipedrive-password': secret('pipedrive-password', {description: 'Pipedrive login password for the connector.'}),
  'signature-key': secret('signature-key', {description: 'HMAC key: the platform signs its notifications (Elements-Webhook-Signature).'}),
  tag: Flags.string({description: 'Instance tag (repeatable).', multiple: true}),
}
