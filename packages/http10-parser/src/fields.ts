/** One header field as sent: the raw name and the value with surrounding whitespace trimmed. */
export type Field = readonly [name: string, value: string]

/**
 * Builds the field list from the offsets a `HeadScanner` recorded. `text` is the whole head
 * decoded once (latin1) starting at index `offset` of the scanned buffer: slicing it is far
 * cheaper than one `toString` per name and value.
 */
export function buildFields(text: string, offset: number, offsets: readonly number[], count: number): Field[] {
  const fields: Field[] = new Array(count)
  for (let i = 0; i < count; i++) {
    const at = i * 4
    fields[i] = [
      text.slice((offsets[at] as number) - offset, (offsets[at + 1] as number) - offset),
      text.slice((offsets[at + 2] as number) - offset, (offsets[at + 3] as number) - offset),
    ]
  }
  return fields
}

/** The value of the first field called `name`, compared ASCII-case-insensitively (RFC 9110 §5.1). */
export function findField(fields: ReadonlyArray<Field>, name: string): string | undefined {
  const length = name.length
  for (const field of fields) {
    const fieldName = field[0]
    if (fieldName.length === length && (fieldName === name || equalsIgnoringCase(fieldName, name))) return field[1]
  }
  return undefined
}

function equalsIgnoringCase(a: string, b: string): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    const folded = x | 0x20
    if (folded !== (y | 0x20) || folded < 0x61 || folded > 0x7a) return false
  }
  return true
}
