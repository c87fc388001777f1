import * as Flags from '@oclif/core/flags'

/** Credentials flags shared by every Pipedrive command (each also has its PDHOOKS_* variable). */
export const pipedriveFlags = {
  'pipedrive-access-token': Flags.string({description: 'Pipedrive OAuth access token (PDHOOKS_PIPEDRIVE_ACCESS_TOKEN).', helpGroup: 'CREDENTIALS'}),
  'pipedrive-token': Flags.string({description: 'Pipedrive API token (PDHOOKS_PIPEDRIVE_TOKEN).', helpGroup: 'CREDENTIALS'}),
  'pipedrive-url': Flags.string({description: 'Pipedrive API base or company domain (PDHOOKS_PIPEDRIVE_URL).', helpGroup: 'CREDENTIALS'}),
}

/** Credentials flags shared by every Cloud Elements / Open Connectors command. */
export const elementsFlags = {
  'elements-url': Flags.string({description: 'Platform base: URL, host, or us, eu, staging, sap-us2, sap-eu10, sap-us10 (PDHOOKS_ELEMENTS_URL).', helpGroup: 'CREDENTIALS'}),
  'org-secret': Flags.string({description: 'Platform organization secret (PDHOOKS_ORG_SECRET).', helpGroup: 'CREDENTIALS'}),
  'user-secret': Flags.string({description: 'Platform user secret (PDHOOKS_USER_SECRET).', helpGroup: 'CREDENTIALS'}),
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
  'pipedrive-password': Flags.string({description: 'Pipedrive login password for the connector (PDHOOKS_PIPEDRIVE_PASSWORD).'}),
  'signature-key': Flags.string({description: 'HMAC key: the platform signs its notifications (Elements-Webhook-Signature).'}),
  tag: Flags.string({description: 'Instance tag (repeatable).', multiple: true}),
}
