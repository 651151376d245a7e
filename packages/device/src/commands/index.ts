export { CommandAgent, commandPublicKey, COMMANDS_SUFFIX, COMMAND_RESULTS_SUFFIX } from './command-agent.ts';
export type { CommandAgentOptions, CommandHandler, CommandResult } from './command-agent.ts';
export { BoundedNonceRegistry } from './bounded-nonce-registry.ts';
