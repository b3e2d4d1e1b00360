export { B24Error, isB24Error, type B24ErrorOptions, type Delivery } from './b24-error.js';
export { B24ApiError, isB24ApiError, type ApiErrorDetails } from './api-error.js';
export { B24AuthError, isB24AuthError } from './auth-error.js';
export { B24RateLimitError, isB24RateLimitError } from './rate-limit-error.js';
export { B24NetworkError, isB24NetworkError } from './network-error.js';
export { B24TimeoutError, isB24TimeoutError } from './timeout-error.js';
export { B24ValidationError, isB24ValidationError } from './validation-error.js';
export { ERROR_CODES, errorCodeInfo, type ErrorCode, type ErrorCodeInfo, type ErrorKind } from './codes.js';
