/**
 * Tango device servers in TypeScript: GIOP 1.2 over IIOP, the Device_5 operations, the admin
 * device, ZeroMQ events and polling, with or without a Tango database; devices are written with
 * {@link defineDevice}.
 * @module
 */
export { DeviceServer } from './device-server.js';
export type { DeviceServerOptions, DeviceSpec } from './device-server.js';
export type { EventAllowList, EventSecurity } from './events.js';
export { TangoDevice, defineDevice, defaultStatus, DEVICE_DEFINITION } from './device.js';
export type { AttributeAccess, AttributeDefinition, CommandDefinition, DeviceDefinition } from './device.js';
export { DevFailed } from './dev-failed.js';
export { ATTRIBUTE_TYPES, COMMAND_TYPES } from './values.js';
export type { AttributeType, CommandType } from './values.js';
export { GiopServer, SystemException, UserException } from './giop-server.js';
export type { Servant, RequestContext, ReplyBody } from './giop-server.js';
