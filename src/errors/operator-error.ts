// The one base of every failure an operator can act on: a bad config line, an address in use, no appliance
// running. The CLI prints it as one line, `imds-hop: MESSAGE [CODE]`, and exits 1, without a stack trace;
// anything else that escapes a command is a bug and keeps its stack.

/**
 * A stable code scripts and tests can match on, in one style: SCREAMING_SNAKE_CASE (NOT_RUNNING, BAD_ADDRESS).
 * The type refuses lowercase letters, so a kebab-case or camelCase literal fails to compile.
 */
export type OperatorErrorCode = Uppercase<string>;

export class OperatorError extends Error {
  constructor(
    readonly code: OperatorErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The exit status of a command that failed with an OperatorError (usage errors are commander's, also 1). */
export const OPERATOR_ERROR_EXIT_STATUS = 1;
