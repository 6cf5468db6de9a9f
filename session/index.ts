/**
 * Sessions: what library code and session files may use from the session layer. The `concert`
 * command itself (session/cli/, the REPL, the loader) is not part of the public surface.
 * @module
 */
export { progress, type Progress } from './progress.js';
export {
  abort,
  AbortReport,
  checkEmergencyStop,
  ddoc,
  dstate,
  deviceDocs,
  deviceStates,
  type EmergencyStopOptions,
  type EmergencyStopWatch,
} from './helpers.js';
export { SessionError } from './store.js';
