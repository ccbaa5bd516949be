import { Type, type Static } from '@sinclair/typebox';
import { ReplyObject } from './typebox.js';

/** A request field that is wrong, and why. */
export const fieldErrorSchema = ReplyObject({ field: Type.String(), message: Type.String() });

export type FieldError = Static<typeof fieldErrorSchema>;

/** The body of every error answer: a code, a message, and for a bad request each field's error. */
export const errorSchema = ReplyObject({
  error: Type.String(),
  message: Type.String(),
  errors: Type.Optional(Type.Array(fieldErrorSchema)),
});

export type ErrorBody = Static<typeof errorSchema>;
