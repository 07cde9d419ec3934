// Which rows of an encoder's last hidden state its head reads. A head that reads each sequence's
// first token alone (CLS pooling, sequence classifiers, bge-m3's dense output by itself) lets the
// encoder run its last layer past attention for those rows only: nothing else of that layer's
// output is ever read, and on a 6-layer reranker it is a sixth of the work.
#pragma once

namespace sie {

enum class HiddenRows { All, FirstOfEachSequence };

}  // namespace sie
