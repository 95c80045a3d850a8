// Import/export policy and the standard advertisement rules.

export {
  ACCEPT_ALL,
  asPathText,
  type CompileOptions,
  compilePolicy,
  type Policy,
  type PolicyContext,
  type PolicyResult,
  type PolicyRoute,
  parseCommunity,
  parseLargeCommunity,
  prependAs,
} from './compile.js';
export type {
  AsPathMatch,
  CommunityChange,
  CommunityMatch,
  CommunityValue,
  LargeCommunityMatch,
  MatchConfig,
  PolicyConfig,
  PrefixListEntry,
  SetConfig,
  TermConfig,
} from './config.js';
export { PolicyAction } from './config.js';
export { PolicyConfigError } from './errors.js';
export {
  advertisementFilter,
  createExporter,
  createImporter,
  type ExportOptions,
  type ImportOptions,
  importCheck,
  type LocalSpeaker,
  standardExport,
  validateLocal,
} from './rules.js';
