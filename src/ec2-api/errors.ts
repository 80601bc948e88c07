// EC2's error codes as the API reference lists them ("Error codes for the Amazon EC2 API"): the code, the HTTP
// status EC2 answers it with, and a message in EC2's wording where one is documented.
import { el, text, xmlDocument } from './xml.ts';

const EC2_ERRORS = {
  AuthFailure: 401,
  UnauthorizedOperation: 403,
  RequestExpired: 400,
  InvalidParameterValue: 400,
  InvalidParameterCombination: 400,
  MissingParameter: 400,
  InvalidAction: 400,
  'InvalidInstanceID.NotFound': 400,
  'InvalidInstanceID.Malformed': 400,
  UnsupportedOperation: 400,
  DryRunOperation: 412,
  InternalError: 500,
} as const;

type Ec2ErrorCode = keyof typeof EC2_ERRORS;

/** A refusal the API answers with an error document; never an exception that escapes the listener. */
export class Ec2ApiError extends Error {
  constructor(
    readonly code: Ec2ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'Ec2ApiError';
  }

  get status(): number {
    return EC2_ERRORS[this.code];
  }
}

export const AUTH_FAILURE_MESSAGE = 'AWS was not able to validate the provided access credentials';
export const UNAUTHORIZED_MESSAGE = 'You are not authorized to perform this operation.';

/** EC2's error document: Response/Errors/Error with Code and Message, then RequestID (capital D), no namespace. */
export function errorXml(error: Ec2ApiError, requestId: string): string {
  return xmlDocument(
    el('Response', [
      el('Errors', [el('Error', [text('Code', error.code), text('Message', error.message)])]),
      text('RequestID', requestId),
    ]),
  );
}
