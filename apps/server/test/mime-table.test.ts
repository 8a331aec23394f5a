import fc from 'fast-check'
import mime from 'mime-types'
import { expect, test } from 'vitest'
import { contentTypeFor } from '../src/files/content-type.js'
import { CONTENT_TYPES, EXTENSIONS } from '../src/generated/mime-table.js'
import { extensionOfType } from '../src/uploads/upload-extension.js'

// src/mime-table.ts is generated from mime-types; these fail when an upgrade of mime-types (or a
// hand edit) makes the two disagree. Fix: `pnpm --filter server gen:mime`.

test('the table has every extension mime-types knows, with its Content-Type', () => {
  expect(Object.keys(CONTENT_TYPES).sort()).toEqual(Object.keys(mime.types).sort())
  for (const extension of Object.keys(mime.types)) {
    expect(contentTypeFor(`dir/file.${extension.toUpperCase()}`)).toBe(mime.contentType(extension))
  }
})

test('every media type mime-types maps to an extension maps to the same one', () => {
  const withExtension = Object.keys(mime.extensions).filter((type) => mime.extension(type) !== false)
  expect(Object.keys(EXTENSIONS).sort()).toEqual(withExtension.sort())
  for (const type of Object.keys(mime.extensions)) {
    expect(extensionOfType(type) ?? false).toBe(mime.extension(type))
  }
})

test('file names without a known extension are application/octet-stream', () => {
  for (const name of ['Makefile', '.bashrc', 'a.constructor', 'b.__proto__', 'c.tostring', 'd.', 'e.tar.nope']) {
    expect(contentTypeFor(name)).toBe('application/octet-stream')
  }
  expect(contentTypeFor('archive.tar.gz')).toBe('application/gzip')
})

test('the media type of any Content-Type is read as mime-types reads it', () => {
  const known = fc.constantFrom(...Object.keys(mime.extensions))
  const contentType = fc.oneof(
    fc.string(),
    fc
      .tuple(fc.constantFrom('', ' ', '\t'), known, fc.constantFrom('', ';', '; charset=utf-8', ' x', ';q'))
      .map(([lead, type, rest]) => `${lead}${type}${rest}`),
    known.map((type) => type.toUpperCase()),
  )
  fc.assert(
    fc.property(contentType, (value) => {
      expect(extensionOfType(value) ?? false).toBe(mime.extension(value))
    }),
    { numRuns: 2000 },
  )
})
