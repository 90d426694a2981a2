# SPDX-License-Identifier: Apache-2.0
# Cost / oracle per job family at deadline factors >= 1.5 (median and p95)
# for deadline, the best fixed count in hindsight, static-max and hpa.
# Called by bench/controllers.sh:
#   gnuplot -e "dat='bench/out/ctl-families.dat'; out='...png'" plot_families.gp
set terminal pngcairo size 1000,640 font "DejaVu Sans,10"
set output out
set multiplot layout 2,1 title "cost / oracle lower bound, feasible jobs with deadline >= 1.5 x the fastest"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 2
set yrange [0.9:32]
set ytics (1, 1.1, 1.3, 2, 4, 8, 16, 32)
set grid ytics lc rgb "#dddddd"
set key inside left top horizontal font ",9"
set xtics rotate by -20 noenhanced
set arrow 1 from graph 0, first 1.1 to graph 1, first 1.1 nohead dt 2 lc rgb "#c0392b"
set title "median (goal for deadline: 1.10)"
plot dat using 2:xtic(1) title "deadline" lc rgb "#2c7fb8", \
     '' using 4 title "best fixed count (hindsight)" lc rgb "#7fcdbb", \
     '' using 6 title "static-max" lc rgb "#bdbdbd", \
     '' using 8 title "hpa" lc rgb "#f39c12"
set arrow 1 from graph 0, first 1.3 to graph 1, first 1.3 nohead dt 2 lc rgb "#c0392b"
set title "p95 (goal for deadline: 1.30)"
plot dat using 3:xtic(1) title "deadline" lc rgb "#2c7fb8", \
     '' using 5 title "best fixed count (hindsight)" lc rgb "#7fcdbb", \
     '' using 7 title "static-max" lc rgb "#bdbdbd", \
     '' using 9 title "hpa" lc rgb "#f39c12"
unset multiplot
