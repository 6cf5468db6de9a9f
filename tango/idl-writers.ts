/**
 * Encoders of the Tango IDL structs a device server sends (the inverse of the readers in
 * `idl-types.ts`): `DevErrorList`, `DevInfo(_3)`, `DevCmdInfo(_2)` lists and every version of the
 * attribute configuration, plus the decoder of the configurations clients send back
 * (`set_attribute_config_3/_4/_5`).
 * @module
 */
import type { CdrReader, CdrWriter } from './cdr.js';
import type { DevError } from './errors.js';
import {
  ATTR_FORMATS,
  ATTR_WRITE_TYPES,
  DISP_LEVELS,
  ERR_SEVERITIES,
  type AttributeConfig,
  type CommandInfo,
  type DevInfo,
} from './idl-types.js';

/** Writes a `DevErrorList`. */
export function writeDevErrors(w: CdrWriter, errors: readonly DevError[]): void {
  w.ulong(errors.length);
  for (const e of errors) {
    w.string(e.reason)
      .ulong(Math.max(0, ERR_SEVERITIES.indexOf(e.severity)))
      .string(e.desc)
      .string(e.origin);
  }
}

/** Writes a `DevInfo_3` (or a `DevInfo` when `v3` is false). */
export function writeDevInfo(w: CdrWriter, info: DevInfo, v3 = true): void {
  w.string(info.devClass).string(info.serverId).string(info.serverHost).long(info.serverVersion).string(info.docUrl);
  if (v3) w.string(info.devType);
}

/** Writes one `DevCmdInfo_2` (or `DevCmdInfo` when `v2` is false). */
export function writeCommandInfo(w: CdrWriter, c: CommandInfo, v2 = true): void {
  w.string(c.name);
  if (v2) w.ulong(DISP_LEVELS.indexOf(c.level));
  w.long(c.tag).long(c.inType).long(c.outType).string(c.inTypeDesc).string(c.outTypeDesc);
}

/** Writes a `DevCmdInfoList_2` (or `DevCmdInfoList`). */
export function writeCommandInfos(w: CdrWriter, list: readonly CommandInfo[], v2 = true): void {
  w.ulong(list.length);
  for (const c of list) writeCommandInfo(w, c, v2);
}

/** Versions of `AttributeConfig` in tango.idl. */
export type AttributeConfigVersion = 1 | 2 | 3 | 5;

function writeAlarmAndEvents(w: CdrWriter, c: AttributeConfig): void {
  const a = c.alarms;
  w.string(a.minAlarm).string(a.maxAlarm).string(a.minWarning).string(a.maxWarning);
  w.string('Not specified').string('Not specified').strings([]); // delta_t, delta_val, extensions
  w.string(c.events.relChange).string(c.events.absChange).strings([]); // ChangeEventProp
  w.string(c.events.period).strings([]); // PeriodicEventProp
  w.string('Not specified').string('Not specified').string('Not specified').strings([]); // ArchiveEventProp
}

/** Writes one attribute configuration in the given IDL version. */
export function writeAttributeConfig(w: CdrWriter, c: AttributeConfig, version: AttributeConfigVersion = 5): void {
  w.string(c.name).ulong(ATTR_WRITE_TYPES.indexOf(c.writable)).ulong(ATTR_FORMATS.indexOf(c.format)).long(c.dataType);
  if (version === 5) w.boolean(c.memorized).boolean(false);
  w.long(c.maxDimX).long(c.maxDimY);
  w.string(c.description).string(c.label).string(c.unit).string(c.standardUnit).string(c.displayUnit);
  w.string(c.displayFormat).string(c.minValue).string(c.maxValue);
  if (version <= 2) w.string(c.alarms.minAlarm).string(c.alarms.maxAlarm);
  w.string(c.writableAttrName);
  if (version >= 2) w.ulong(DISP_LEVELS.indexOf(c.level));
  if (version === 5) w.string(c.name).strings(c.enumLabels); // root_attr_name, enum_labels
  if (version >= 3) {
    writeAlarmAndEvents(w, c);
    w.strings([]).strings([]); // extensions, sys_extensions
  } else w.strings([]);
}

/** Writes an attribute configuration list in the given IDL version. */
export function writeAttributeConfigs(
  w: CdrWriter,
  configs: readonly AttributeConfig[],
  version: AttributeConfigVersion = 5,
): void {
  w.ulong(configs.length);
  for (const c of configs) writeAttributeConfig(w, c, version);
}

/** What a client may change in an attribute configuration (`set_attribute_config_N`). */
export interface AttributeConfigChange {
  readonly name: string;
  readonly description: string;
  readonly label: string;
  readonly unit: string;
  readonly standardUnit: string;
  readonly displayUnit: string;
  readonly displayFormat: string;
  readonly minValue: string;
  readonly maxValue: string;
  readonly alarms: AttributeConfig['alarms'];
  readonly events: AttributeConfig['events'];
}

/** Reads an `AttributeConfigList_3` (version 3) or `AttributeConfigList_5` (version 5). */
export function readAttributeConfigChanges(r: CdrReader, version: 3 | 5): AttributeConfigChange[] {
  const n = r.length(64);
  const out: AttributeConfigChange[] = [];
  for (let i = 0; i < n; i++) {
    const name = r.string();
    r.ulong();
    r.ulong();
    r.long(); // writable, format, type: not changeable
    if (version === 5) {
      r.boolean();
      r.boolean();
    }
    r.long();
    r.long(); // dims
    const [description, label, unit, standardUnit, displayUnit, displayFormat, minValue, maxValue] = Array.from(
      { length: 8 },
      () => r.string(),
    ) as [string, string, string, string, string, string, string, string];
    r.string(); // writable_attr_name
    r.ulong(); // level
    if (version === 5) {
      r.string();
      r.strings(); // root_attr_name, enum_labels
    }
    const [minAlarm, maxAlarm, minWarning, maxWarning] = [r.string(), r.string(), r.string(), r.string()];
    r.string();
    r.string();
    r.strings();
    const relChange = r.string();
    const absChange = r.string();
    r.strings();
    const period = r.string();
    r.strings();
    r.string();
    r.string();
    r.string();
    r.strings();
    r.strings();
    r.strings();
    out.push({
      name,
      description,
      label,
      unit,
      standardUnit,
      displayUnit,
      displayFormat,
      minValue,
      maxValue,
      alarms: { minAlarm, maxAlarm, minWarning, maxWarning },
      events: { relChange, absChange, period },
    });
  }
  return out;
}
