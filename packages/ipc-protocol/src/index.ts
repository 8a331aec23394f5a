export {
  type Channel,
  type ChannelOptions,
  connectToSupervisor,
  connectToWorker,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type NativeHandle,
  type ReceivedHandle,
  type ReplyOf,
  type RequestOf,
  type RequestOptions,
  type SendableHandle,
  type SendOptions,
} from './channel.js'
export { decodeSupervisorMessage, decodeWorkerMessage } from './decode.js'
export { IPC_ERROR_STATUS, IpcError, type IpcErrorCode } from './errors.js'
export { isConnectionMessage } from './is-connection-message.js'
export {
  ConnectionMessage,
  ConnectionRejectedMessage,
  ListeningMessage,
  ListenMessage,
  LogReopenMessage,
  PermitDenyMessage,
  PermitGrantMessage,
  PermitReleaseMessage,
  PermitRequestMessage,
  PROTOCOL_VERSION,
  REPLY_TYPES,
  ReadyMessage,
  type ReplyType,
  type RequestType,
  ShutdownMessage,
  StatsMessage,
  StatsRequestMessage,
  SupervisorMessage,
  WorkerMessage,
} from './messages.js'
