<?php
// A slow request: a query without its index, a hung third-party API.
// In the lab it first marks that it runs (the pool is busy).
if (($busy = getenv('LAB_BUSY_DIR')) !== false) {
    touch($busy . '/' . getmypid() . '-' . hrtime(true));
}
sleep(3);
echo "slow but done\n";
