# SPDX-License-Identifier: Apache-2.0
# Replicas and progress over time of the representative job, one PNG per
# controller. Called by bench/controllers.sh:
#   gnuplot -e "dat='bench/out/ctl-trace-deadline.dat'; out='...png'; \
#               title='deadline'; deadline=1234.5; ymax=32" plot.gp
set terminal pngcairo size 900,460 font "DejaVu Sans,10"
set output out
set title title
set xlabel "time (s)"
set ylabel "replicas"
set y2label "progress (%)"
set yrange [0:ymax * 1.15]
set y2range [0:105]
set ytics nomirror
set y2tics 0, 20, 100
set xrange [0:xmax]
set key outside bottom center horizontal
set grid xtics ytics lc rgb "#dddddd"
set arrow 1 from deadline, graph 0 to deadline, graph 1 nohead lw 2 lc rgb "#c0392b" dt 2
set label 1 "deadline" at deadline, graph 0.5 left offset 0.5,0 tc rgb "#c0392b"
plot dat using 1:2 with steps lw 2 lc rgb "#2c7fb8" title "replicas alive (cost)", \
     dat using 1:4 with steps lw 1 lc rgb "#7fcdbb" dt 3 title "desired", \
     dat using 1:5 axes x1y2 with lines lw 2 lc rgb "#f39c12" title "progress (%)"
