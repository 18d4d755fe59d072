/** SQS-compatible queues on the Broker: the service other services and the SQS protocol use. */
export { QueuesService, brokerQueueOf, type QueueInfo, type ReceivedMessage, type SendInput, type Sent } from './service.js';
