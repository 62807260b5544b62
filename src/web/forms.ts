import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors'
import type { FastifySchemaCompiler } from 'fastify'
import { ValidationError } from '../errors.ts'
import { USERNAME_MAX } from './session.ts'

type Validator = ReturnType<FastifySchemaCompiler<unknown>>

/** The room form; limits match the rooms module's. An unchecked checkbox sends nothing. */
export const RoomForm = Type.Object({
  name: Type.String({ maxLength: 80 }),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  persistent: Type.Optional(Type.Literal('true')),
  // Checked and parsed by validateRoomInput, which reports them per field.
  capacity: Type.Optional(Type.String({ maxLength: 8 })),
  visibility: Type.Optional(Type.String({ maxLength: 16 })),
  locked: Type.Optional(Type.Literal('true')),
  allow_grab: Type.Optional(Type.Literal('true')),
  allow_chat: Type.Optional(Type.Literal('true'))
})
export type RoomForm = Static<typeof RoomForm>

/** The display name form; trimming and the exact length check happen in normalizeUsername. */
export const NameForm = Type.Object({
  // Room for surrounding whitespace, which is trimmed off.
  username: Type.String({ maxLength: USERNAME_MAX * 4 })
})
export type NameForm = Static<typeof NameForm>

/** Where problems that belong to no field (a body that is not a form at all) are reported. */
export const FORM_FIELD = '_form'

function fieldMessage (error: ValueError): string {
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty: return "can't be blank"
    case ValueErrorType.StringMaxLength: return `should be at most ${String(error.schema.maxLength)} characters`
    case ValueErrorType.String: return 'must be text'
    default: return 'is invalid'
  }
}

/**
 * Validates form bodies with TypeBox and reports every field at once, as a ValidationError
 * (422, XR_ERR_VALIDATION) whose `fields` the form shows next to each input. Ajv would stop
 * at the first error by default; a form should show them all.
 */
export function formValidatorCompiler ({ schema }: { schema: unknown }): Validator {
  const check = TypeCompiler.Compile(schema as TSchema)
  return (data: unknown) => {
    if (check.Check(data)) return { value: data }
    const fields: Record<string, string> = {}
    for (const error of check.Errors(data)) {
      const field = error.path.split('/')[1] || FORM_FIELD
      fields[field] ??= field === FORM_FIELD ? 'The form could not be read; please send it again.' : fieldMessage(error)
    }
    return { error: new ValidationError(fields) }
  }
}
