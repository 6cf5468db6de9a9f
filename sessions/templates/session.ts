/**
 * SESSION_NAME: a Concert session.
 *
 * Write the session's manual here: what it is for, which devices it sets up and how to use it.
 * `concert show SESSION_NAME` prints this comment; `concert start SESSION_NAME` runs the file and
 * makes its exports the globals of the prompt.
 */
import { q } from 'concert';
// import { LinearMotor } from 'concert/devices/motors/dummy';

export { q };

// Devices are named after the variables they are exported as.
// export const motor = await LinearMotor.create();

// Set to true to allow this session to run in several processes at once.
export const MULTIINSTANCE = false;
