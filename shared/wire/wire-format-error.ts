/** Why a message, tensor set header or chunk from a peer is unacceptable: the adapters drop the peer and say this. */
export class WireFormatError extends Error {}
