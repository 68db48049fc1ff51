<?php
// An uncaught exception after a deploy: PHP answers 500 itself.
throw new RuntimeException('lab: unexpected condition');
