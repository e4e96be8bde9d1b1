/**
 * Decoders for attribute values in the JSON message format. Complex values
 * carry a DataContract type hint, e.g.
 *   { "__type": "Money:http://schemas.microsoft.com/xrm/2011/Contracts", "Value": 12.5 }
 *   { "__type": "OptionSetValue:…", "Value": 192350002 }
 *   { "__type": "EntityReference:…", "Id": "…", "LogicalName": "account", "Name": "Contoso" }
 * while strings, GUIDs, numbers and dates ("/Date(ms)/") are bare JSON values.
 * Each decoder throws a RangeError saying what is wrong; `AttributeProblem`
 * adds the attribute's name for the message that reaches the quarantine.
 */
import { canonicalDecimal, decimalFromJson, describe } from './decimalText';
import { ExactNumber } from './exactNumber';
import { dateFromWcfDate, instantFromWcfDate } from './wcfDate';

export type Decoder<T> = (value: unknown) => T;

export type EntityRef = { readonly id: string; readonly logicalName: string; readonly name?: string };

export class AttributeProblem extends Error {
  constructor(
    readonly attribute: string,
    readonly problem: string,
  ) {
    super(`${attribute}: ${problem}`);
    this.name = 'AttributeProblem';
  }
}

const GUID = /^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/;

/** "Money:http://schemas…" → "Money"; undefined when there is no hint. */
function typeHint(value: object): string | undefined {
  const hint = (value as { __type?: unknown }).__type;
  return typeof hint === 'string' ? hint.split(':')[0] : undefined;
}

/** The object of a complex value whose hint, if present, is `expected`. */
function complex(value: unknown, expected: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof ExactNumber) {
    throw new RangeError(`is ${describe(value)}, expected ${article(expected)} ${expected}`);
  }
  const hint = typeHint(value);
  if (hint !== undefined && hint !== expected)
    throw new RangeError(`is ${article(hint)} ${hint}, expected ${article(expected)} ${expected}`);
  return value as Record<string, unknown>;
}

function article(word: string): string {
  return /^[AEIOU]/.test(word) ? 'an' : 'a';
}

export const text: Decoder<string> = (value) => {
  if (typeof value !== 'string') throw new RangeError(`is ${describe(value)}, expected text`);
  return value;
};

/** Lower-cased, without braces, so the same record always has the same key. */
export const guid: Decoder<string> = (value) => {
  const m = typeof value === 'string' ? GUID.exec(value) : null;
  if (!m) throw new RangeError(`is ${describe(value)}, expected a GUID`);
  return m[1]!.toLowerCase();
};

/** A Money value → its amount as an exact decimal string. */
export const money: Decoder<string> = (value) => decimalFromJson(complex(value, 'Money').Value);

/** A bare decimal column (quantity, percent) → exact decimal string. */
export const decimal: Decoder<string> = (value) => decimalFromJson(value);

export const optionSetCode: Decoder<number> = (value) => {
  const code = complex(value, 'OptionSetValue').Value;
  if (typeof code !== 'number' || !Number.isSafeInteger(code))
    throw new RangeError(`has option-set value ${describe(code)}, expected a whole number`);
  return code;
};

/** A lookup; `targets` lists the tables it may point to (empty: any). */
export function entityReference(...targets: string[]): Decoder<EntityRef> {
  return (value) => {
    const ref = complex(value, 'EntityReference');
    let id: string;
    try {
      id = guid(ref.Id);
    } catch {
      throw new RangeError(`has Id ${describe(ref.Id)}, expected a GUID`);
    }
    const logicalName = text(ref.LogicalName);
    if (targets.length > 0 && !targets.includes(logicalName)) {
      throw new RangeError(`points to ${article(logicalName)} ${logicalName}, expected ${targets.join(' or ')}`);
    }
    return typeof ref.Name === 'string' ? { id, logicalName, name: ref.Name } : { id, logicalName };
  };
}

export const instant: Decoder<string> = (value) => instantFromWcfDate(value);

export const dateOnly: Decoder<string> = (value) => dateFromWcfDate(value);

/**
 * An int64 (versionnumber) as its decimal digits, never through a double
 * beyond 2^53. DataContractJsonSerializer writes a primitive in an attribute's
 * object-typed slot bare (as Microsoft's sample shows for GUIDs, text and
 * dates), so an Int64 arrives as a JSON number. Accepted: a safe JSON number,
 * an ExactNumber (readDataverseJson kept the digits of a larger one), or a
 * digit string (the entity's RowVersion property is one).
 */
export const int64Text: Decoder<string> = (value) => {
  let digits: string;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(
        `is ${value}, beyond 2^53 or not whole, so JSON.parse may have rounded it; read the message text with readDataverseJson`,
      );
    }
    digits = String(value);
  } else if (value instanceof ExactNumber || (typeof value === 'string' && /^-?\d+$/.test(value))) {
    digits = canonicalDecimal(value instanceof ExactNumber ? value.text : value);
  } else {
    throw new RangeError(`is ${describe(value)}, expected a whole number`);
  }
  if (!/^\d+$/.test(digits)) throw new RangeError(`is ${digits}, expected a whole number of 0 or more`);
  if (BigInt(digits) > 2n ** 63n - 1n) throw new RangeError(`is ${digits}, beyond the int64 range`);
  return digits;
};
