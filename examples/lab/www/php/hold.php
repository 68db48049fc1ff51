<?php
// Holds a pool child while the lab's hold file exists, at most 20 seconds,
// with a mark (its pid) in the pool's marks directory meanwhile: the lab's
// truth of how many children are busy.
$hold = getenv('LAB_HOLD_FILE');
$marks = getenv('LAB_HOLD_MARKS');
$mark = $marks !== false ? $marks . '/' . getmypid() : null;
if ($mark !== null) {
    touch($mark);
}
$until = microtime(true) + 20;
while ($hold !== false && microtime(true) < $until) {
    clearstatcache();
    if (!file_exists($hold)) {
        break;
    }
    usleep(20000);
}
if ($mark !== null) {
    unlink($mark);
}
echo "released\n";
