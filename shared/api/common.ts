import { Type, type Static } from 'typebox';

/** The body of every error answer of the API; `code` is one of shared/errors.ts. */
export const ApiError = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Array(Type.String())),
});
export type ApiError = Static<typeof ApiError>;

export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
