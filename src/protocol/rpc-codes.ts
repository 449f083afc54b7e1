/** JSON-RPC 2.0 error codes of the control protocol (SPEC section 8), apart from rpc.ts so that using one loads no zod. */
export const JSONRPC_PARSE_ERROR = -32700
export const JSONRPC_INVALID_REQUEST = -32600
export const JSONRPC_METHOD_NOT_FOUND = -32601
export const JSONRPC_INVALID_PARAMS = -32602
export const JSONRPC_INTERNAL_ERROR = -32603
/** Application errors: the stable string code is in `error.data.code`. */
export const JSONRPC_APPLICATION_ERROR = -32000
