#!/bin/sh
# ping: 3 echo requests to the gateway must be answered.
ping -c 3 -i 0.2 -w 15 "$VG_GW"
