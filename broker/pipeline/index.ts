/**
 * The broker's pipeline: runs each message, and each beat of the broker's clock, through
 * the stages in the order broker/stages/index.ts lists them (./pipeline.ts), keeps what
 * it refuses (./dead-letters.ts); ./types.ts is the context every stage reads and fills.
 */
export { Pipeline, type PipelineCounters } from './pipeline.js';
export { DeadLetterStore, type DeadLetter, type DeadLetterSink } from './dead-letters.js';
