// Byte and batch counters of the stream model: what producers appended and consumers fetched.
// Invariant: counters only grow; rates are differences between samples taken by the reader.

export class StreamTraffic {
  /** record-batch bytes appended by Produce */
  producedBytes = 0;
  producedBatches = 0;
  /** record-batch bytes answered to Fetch */
  fetchedBytes = 0;
}
