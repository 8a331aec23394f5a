export {
  type Channel,
  type ChannelOptions,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type ReplyOf,
  type RequestMessage,
  type RequestOf,
  type RequestOptions,
} from './channel.js'
export { connectToSupervisor, connectToWorker } from './connect.js'
export { decodeSupervisorMessage, decodeWorkerMessage } from './decode.js'
export { IPC_ERROR_STATUS, IpcError, type IpcErrorCode } from './errors.js'
export {
  decodeHandOffFrame,
  encodeHandOffFrame,
  HAND_OFF_FRAME_BYTES,
  HAND_OFF_FRAME_MAGIC,
  HAND_OFF_FRAME_MAX,
  HAND_OFF_FRAME_VERSION,
  type HandOffFrame,
} from './hand-off-frame.js'
export type { NativeHandle, ReceivedHandle, SendableHandle, SendOptions } from './handles.js'
export { isConnectionMessage } from './is-connection-message.js'
export {
  ConfigureMessage,
  ConnectionMessage,
  HealthMessage,
  HealthRequestMessage,
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
  SettingsRequestMessage,
  ShutdownMessage,
  StatsMessage,
  StatsRequestMessage,
  SupervisorMessage,
  WorkerMessage,
} from './messages.js'
