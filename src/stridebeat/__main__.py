from stridebeat.cli import main

main()
