/** The one error type for what the user can fix; carries the exit code (2 usage/config, 1 runtime) and advice. */
export class UserError extends Error {
  override readonly name = "UserError";
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
    readonly advice?: string,
  ) {
    super(message);
  }
}

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
