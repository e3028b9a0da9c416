// Errors a service raises for an operator: each carries a code, and the field where one is to blame.
export class NotFoundError extends Error {
  readonly code = 'not_found';
}

export class ValidationError extends Error {
  readonly code = 'invalid';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export class ConflictError extends Error {
  readonly code = 'conflict';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
