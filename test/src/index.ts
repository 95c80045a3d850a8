export { CommandError, type CommandResult, type RunOptions, run, tryRun } from './command.js';
export { type Attachment, Lab, listNamespaces, NETNS_PREFIX, Netns, type Segment } from './netns.js';
export { ManagedProcess, type ProcessExit } from './process.js';
export { requireRoot } from './root.js';
export { IPIP_MODULES, runInUml, UML_BINARY, UmlError, type UmlOptions, type UmlResult } from './uml.js';
